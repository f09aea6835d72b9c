"""restflow: test async Django REST framework APIs through the real ASGI cycle.

Installed as ``restflow-testing``; the import package is ``restflow``.
"""

from restflow._installation import check_installation

check_installation("restflow")

__version__ = "0.1.0.dev0"
