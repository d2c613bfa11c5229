"""Optional integrations with other libraries.

Nothing is imported here: ``import hermes_stream.integrations`` stays as light as
``import hermes_stream``. Import the submodule you need, e.g.
``from hermes_stream.integrations.transformers import ReasoningBudgetProcessor`` (that one needs
``torch``, and ``transformers`` for the base classes).
"""
