"""The cluster model: what a CIB *means*, for every part of Paceline that needs to know.

CIB XML (configuration + status, Pacemaker's schema) goes in, a
:class:`~paceline.shared.cluster.model.ClusterState` comes out: nodes with
their state and attributes, resources with their configuration and operation
history, constraints, evaluated rules and cluster options with their defaults.
No I/O and no clock: the time a CIB is evaluated at is passed in
(:func:`cib_now` reads a CIB's own ``execution-date``).

This is Pacemaker's ``lib/pengine``: the scheduler (``paceline.policy.scheduler``),
``paceline status`` (:mod:`.crm_mon`), the gateway, the executor and the fencer
all read the CIB through it, so none of them can disagree on what an option or
a rule says. It imports only ``paceline.shared``.
"""

from __future__ import annotations

from paceline.shared.cluster.options import cluster_options, option_is_true, resource_meta
from paceline.shared.cluster.status_view import render_status
from paceline.shared.cluster.unpack import cib_now, unpack

__all__ = ["cib_now", "cluster_options", "option_is_true", "render_status", "resource_meta", "unpack"]
