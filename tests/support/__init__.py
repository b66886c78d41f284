"""What the tests share and are not tests themselves: harnesses that start services and stacks,
clients, servers and proxies made for tests, and the data they check against. Mirrors the
folders of the tests that use it."""
