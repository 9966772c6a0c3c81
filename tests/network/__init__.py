"""The agent's network path against real software: the cloud over real TLS, a real forward proxy
(tinyproxy), a TLS-inspecting proxy (mitmproxy), and a real partition (network namespaces)."""
