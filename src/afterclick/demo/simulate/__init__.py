"""The demo brand's simulation, one part per table or step (see :mod:`afterclick.demo.generator`,
which puts the parts together and runs them)."""
