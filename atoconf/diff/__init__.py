"""`atoconf diff`: what a change to the rule files does to the product.

Above planning, beside the command line: it compares two loaded versions of a
product: the declarations (`declarations`), and the valid assemblies lost and
gained and the values that became dead or came alive (`impact`); examples and
test verdicts come next.
"""
