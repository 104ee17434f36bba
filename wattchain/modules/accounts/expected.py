"""What the accounts module needs from other modules: nothing.

It is the bank (``keeper.AccountsKeeper``): the vm's ``FeeLedger``, the
``RoleChecker`` and ``Governance`` of the modules that check roles, and the
bank that trading and balancing move funds with.
"""
