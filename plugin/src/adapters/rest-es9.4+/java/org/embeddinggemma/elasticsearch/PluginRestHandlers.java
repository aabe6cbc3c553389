package org.embeddinggemma.elasticsearch;

import java.util.Collection;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.rest.RestHandler;

/** The plugin's REST endpoints, registered through the services form of Elasticsearch 9.4 and later. */
interface PluginRestHandlers extends ActionPlugin {

  @Override
  default Collection<RestHandler> getRestHandlers(
      RestHandlersServices services, Supplier<DiscoveryNodes> nodesInCluster, Predicate<NodeFeature> clusterSupportsFeature) {
    return RestEndpoints.handlers();
  }
}
