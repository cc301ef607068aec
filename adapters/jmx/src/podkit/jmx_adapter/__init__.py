"""podkit-jmx-adapter: JMX MBeans to Prometheus metrics, with jmx_exporter's rules."""

__version__ = "0.1.0"
