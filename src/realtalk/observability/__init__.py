"""What operators see of a running server: Prometheus metrics (`/metrics`) and OpenTelemetry traces.

Nothing here changes what a client sees. The session reports to one observer per session
(`session_observer.py`), engines are wrapped (`engine_metrics.py`), and session refusals are read off the
HTTP answers (`refusals.py`), so no metric call is sprinkled through the session's logic.
"""
