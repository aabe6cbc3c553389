package org.embeddinggemma.elasticsearch.action;

import java.io.IOException;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.transport.AbstractTransportRequest;

/** What one node is asked, on Elasticsearch 9.1 and later, where {@code TransportRequest} became an interface. */
abstract class NodeRequestBase extends AbstractTransportRequest {

  NodeRequestBase() {}

  NodeRequestBase(StreamInput in) throws IOException {
    super(in);
  }
}
