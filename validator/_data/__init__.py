"""Shipped data: in an installed wheel the rule files and schemas sit below this package."""
