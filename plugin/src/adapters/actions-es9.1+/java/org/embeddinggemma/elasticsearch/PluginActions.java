package org.embeddinggemma.elasticsearch;

import java.util.Collection;
import java.util.List;
import org.elasticsearch.plugins.ActionPlugin;
import org.embeddinggemma.elasticsearch.action.EmbedAction;
import org.embeddinggemma.elasticsearch.action.ReloadAction;
import org.embeddinggemma.elasticsearch.action.StatsAction;
import org.embeddinggemma.elasticsearch.action.TransportEmbedAction;

/** The plugin's transport actions, registered as Elasticsearch 9.1 and later ask: handlers are no longer generic. */
interface PluginActions extends ActionPlugin {

  @Override
  default Collection<ActionHandler> getActions() {
    return List.of(
        new ActionHandler(EmbedAction.INSTANCE, TransportEmbedAction.class),
        new ActionHandler(StatsAction.INSTANCE, StatsAction.TransportNodesStatsAction.class),
        new ActionHandler(ReloadAction.INSTANCE, ReloadAction.TransportNodesReloadAction.class));
  }
}
