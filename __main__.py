"""obsfleet: one hub per jurisdiction, one edge stack per cluster (see README.md)."""

import pulumi

from components.fleet import deploy
from components.settings import load

for name, value in deploy(load(), pulumi.get_stack()).items():
    pulumi.export(name, value)
