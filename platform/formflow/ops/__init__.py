"""Running formflow as a service: readiness, Prometheus metrics, structured logs with a request id."""
