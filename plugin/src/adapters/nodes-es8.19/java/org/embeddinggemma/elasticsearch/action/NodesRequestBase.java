package org.embeddinggemma.elasticsearch.action;

import org.elasticsearch.action.support.nodes.BaseNodesRequest;

/** A request to some or all nodes, on Elasticsearch 8.19, where {@code BaseNodesRequest} is self-typed. */
abstract class NodesRequestBase<R extends NodesRequestBase<R>> extends BaseNodesRequest<R> {

  NodesRequestBase(String... nodeIds) {
    super(nodeIds);
  }
}
