"""`atoconf diff`: what a change to the rule files does to the product.

Above planning, beside the command line: it compares two loaded versions of a
product. So far, the declarations (`declarations`); the semantic impact (valid
assemblies lost and gained, dead values, test verdicts) comes next.
"""
