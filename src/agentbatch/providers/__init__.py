"""One module per provider SDK, behind one protocol (``base.py``) and one error tree (``errors.py``)."""
