"""One recipe per strategy (see ``experiments.registry``): each module defines ``RECIPE``."""
