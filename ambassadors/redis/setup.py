"""Builds the optional C extension podkit.redis_ambassador.resp._resp (the RESP scanners' hot loops).

Everything else is in pyproject.toml; setup.py only declares the extension, with ``optional=True``
so that without a C compiler and the Python headers the install goes on and the package runs its
pure-Python scanners (the resp_scanner setting "auto" then picks "python").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "podkit.redis_ambassador.resp._resp",
            sources=["src/podkit/redis_ambassador/resp/_resp.c"],
            optional=True,
        )
    ]
)
