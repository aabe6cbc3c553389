package org.embeddinggemma.elasticsearch.ingest;

import java.util.Map;
import org.elasticsearch.cluster.metadata.ProjectId;
import org.elasticsearch.ingest.Processor;
import org.embeddinggemma.elasticsearch.EmbeddingService;

/**
 * The processor's factory with {@code Processor.Factory#create} as Elasticsearch 9.1 and later
 * declare it: with the pipeline's project, which a processor that reads no cluster state ignores.
 */
public final class EmbeddingGemmaProcessorFactory extends EmbeddingGemmaProcessor.Factory {

  /** @see EmbeddingGemmaProcessor.Factory */
  public EmbeddingGemmaProcessorFactory(EmbeddingService service, boolean ingestNode) {
    super(service, ingestNode);
  }

  @Override
  public EmbeddingGemmaProcessor create(
      Map<String, Processor.Factory> registry, String tag, String description, Map<String, Object> config, ProjectId projectId) {
    return create(tag, description, config);
  }
}
