"""``catoiac health``: after an ``up``, prove the network still works, from Cato's monitoring APIs
(accountSnapshot, accountMetrics, socketPortMetricsTimeSeries, eventsFeed, xdr.stories), with every
finding correlated with what the stacks' last update changed."""
