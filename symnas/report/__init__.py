"""Reports on stored studies: ``show`` (top-k, statuses, dedup statistics), ``export`` (JSON / DSL / Python) and
``plot`` (search curve, Pareto front). Used by the ``symnas`` command.

Example::

    from symnas.report import load_study, show_text
    print(show_text(load_study("runs.db")))
"""
from symnas.report.export import export_all, export_dsl, export_json, export_python
from symnas.report.plot import pareto_indices, plot_study
from symnas.report.view import StudyView, load_study, show_dict, show_text

__all__ = ["StudyView", "load_study", "show_text", "show_dict", "export_json", "export_dsl", "export_python",
           "export_all", "plot_study", "pareto_indices"]
