"""Everything that owns a run directory: configs and the one presets table (``config``), one recipe
per strategy (``registry``, ``recipes/``), the replay and bootstrapping experiments (``replay``,
``bootstrap``), run directories (``rundir``), reports (``report``) and console tables (``tables``).
The ``bootdrift`` command and the bench scripts are built on it."""
