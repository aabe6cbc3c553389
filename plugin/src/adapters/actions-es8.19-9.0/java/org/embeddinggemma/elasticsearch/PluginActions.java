package org.embeddinggemma.elasticsearch;

import java.util.Collection;
import java.util.List;
import org.elasticsearch.action.ActionRequest;
import org.elasticsearch.action.ActionResponse;
import org.elasticsearch.plugins.ActionPlugin;
import org.embeddinggemma.elasticsearch.action.EmbedAction;
import org.embeddinggemma.elasticsearch.action.ReloadAction;
import org.embeddinggemma.elasticsearch.action.StatsAction;
import org.embeddinggemma.elasticsearch.action.TransportEmbedAction;

/** The plugin's transport actions, registered as Elasticsearch 8.19 and 9.0 ask: generic handlers. */
interface PluginActions extends ActionPlugin {

  @Override
  default Collection<ActionHandler<? extends ActionRequest, ? extends ActionResponse>> getActions() {
    return List.of(
        new ActionHandler<>(EmbedAction.INSTANCE, TransportEmbedAction.class),
        new ActionHandler<>(StatsAction.INSTANCE, StatsAction.TransportNodesStatsAction.class),
        new ActionHandler<>(ReloadAction.INSTANCE, ReloadAction.TransportNodesReloadAction.class));
  }
}
