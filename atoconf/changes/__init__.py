"""What a change to the rule files does to the product (`atoconf diff`).

Above planning, below the command line: it compares two loaded versions of a
product: the declarations (`declarations`); the valid assemblies lost and
gained, the values that became dead or came alive and the tests whose verdict
changes (`impact`); the cheapest lost and gained assembly (`examples`); a batch
of orders planned on both (`replay`); all of it in one `DiffResult` (`report`).
"""
