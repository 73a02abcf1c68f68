# t/: the front-end and docs suites; each area's local.mk adds its own.
TESTS += t/0001-frontend.bats t/0002-docs.bats t/9001-examples-taxi.bats
