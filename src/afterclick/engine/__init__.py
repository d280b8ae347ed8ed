"""The engine: runs KPI specs on a workspace's tables, including "by" any grouping of their units."""
