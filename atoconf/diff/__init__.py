"""`atoconf diff`: what a change to the rule files does to the product.

Above planning, beside the command line: it compares two loaded versions of a
product: the declarations (`declarations`), and the valid assemblies lost and
gained, the values that became dead or came alive and the tests whose verdict
changes (`impact`); examples of lost and gained assemblies come next.
"""
