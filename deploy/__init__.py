"""Production examples and the local cluster launcher (deploy/cluster.py)."""
