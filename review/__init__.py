"""Offline review of the fleet: preview under the Pulumi SDK's mocks, audit, region catalog."""
