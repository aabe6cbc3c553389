package org.embeddinggemma.elasticsearch.action;

import org.elasticsearch.action.support.nodes.BaseNodesRequest;

/**
 * A request to some or all nodes, on Elasticsearch 9.0 and later, where {@code BaseNodesRequest}
 * is no longer generic. The type parameter is 8.19's, kept so that the requests read the same on
 * every version.
 */
abstract class NodesRequestBase<R extends NodesRequestBase<R>> extends BaseNodesRequest {

  NodesRequestBase(String... nodeIds) {
    super(nodeIds);
  }
}
