package org.embeddinggemma.elasticsearch;

import java.util.List;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.action.support.ActionFilters;
import org.elasticsearch.action.support.HandledTransportAction;
import org.elasticsearch.common.util.concurrent.EsExecutors;
import org.elasticsearch.injection.guice.Inject;
import org.elasticsearch.tasks.Task;
import org.elasticsearch.transport.TransportService;

/** Runs {@link EmbedAction} on the local node through the {@link EmbeddingService}. */
public final class TransportEmbedAction extends HandledTransportAction<EmbedAction.Request, EmbedAction.Response> {

  private final EmbeddingService service;

  @Inject
  public TransportEmbedAction(TransportService transportService, ActionFilters actionFilters, EmbeddingService service) {
    super(EmbedAction.NAME, transportService, actionFilters, EmbedAction.Request::new, EsExecutors.DIRECT_EXECUTOR_SERVICE);
    this.service = service;
  }

  @Override
  protected void doExecute(Task task, EmbedAction.Request request, ActionListener<EmbedAction.Response> listener) {
    String modelId = request.modelId() == null ? service.defaultModelId() : request.modelId();
    ElementType elementType = request.elementType();
    if (request.texts().size() == 1) {
      service.embed(
          modelId, request.texts().get(0), request.title(), request.promptSpec(), request.dims(), request.source(),
          listener.map(embedding -> new EmbedAction.Response(modelId, elementType, List.of(EmbedAction.Result.of(embedding, elementType)))));
    } else {
      service.embedAll(
          modelId, request.texts(), request.title(), request.promptSpec(), request.dims(), request.source(),
          listener.map(embeddings -> new EmbedAction.Response(
              modelId, elementType, embeddings.stream().map(embedding -> EmbedAction.Result.of(embedding, elementType)).toList())));
    }
  }
}
