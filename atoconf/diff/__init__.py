"""`atoconf diff`: what a change to the rule files does to the product.

Above planning, beside the command line: it compares two loaded versions of a
product: the declarations (`declarations`) and the valid assemblies lost and
gained (`impact`); examples, dead values and test verdicts come next.
"""
