package org.embeddinggemma.elasticsearch.action;

import java.io.IOException;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.transport.TransportRequest;

/** What one node is asked, on Elasticsearch 8.19 and 9.0, where {@code TransportRequest} is the base class. */
abstract class NodeRequestBase extends TransportRequest {

  NodeRequestBase() {}

  NodeRequestBase(StreamInput in) throws IOException {
    super(in);
  }
}
