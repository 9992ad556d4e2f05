"""What the three Meta networks (Threads, Instagram, Facebook Pages) share: the Graph API's
error bodies and usage headers, a thin client on onthedot's `HttpClient` and the calls made
as one account (`caller`), the adapters' common ground (`adapter`), the search for a post after
a lost answer (`find`), the publishing quota and the post's address (`publishing`), the
two-step media containers of Threads and Instagram, insights, Facebook Login, and what the
factories share.

Meta publishes official SDKs for Python only for its Business/Marketing API (blocking, on
`requests`) and none for Threads, so onthedot speaks to the Graph API through a thin client on
the same HTTP client the broadcaster uses: every call can then be handed a fake transport.
"""

from onthedot.networks.meta.errors import GraphError, TokenExpired, refusal, usage_reset
from onthedot.networks.meta.graph import GRAPH_VERSION, Graph

__all__ = ["GRAPH_VERSION", "Graph", "GraphError", "TokenExpired", "refusal", "usage_reset"]
