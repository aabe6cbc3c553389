package org.embeddinggemma.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/** The zip as bin/elasticsearch-plugin sees it: its contents, install, list and remove. */
class PluginCliIT {

  @Test
  void zipHoldsDescriptorPolicyAndNoElasticsearchOrLuceneJars() throws Exception {
    try (ZipFile zip = new ZipFile(System.getProperty("plugin.zip"))) {
      List<String> names = zip.stream().map(entry -> entry.getName()).toList();
      assertTrue(names.contains("plugin-descriptor.properties"), names.toString());
      assertTrue(names.contains("entitlement-policy.yaml"), names.toString());
      assertTrue(names.stream().anyMatch(name -> name.startsWith("onnxruntime-")), names.toString());
      assertTrue(names.stream().anyMatch(name -> name.startsWith("tokenizers-")), names.toString());
      assertFalse(names.stream().anyMatch(name -> name.startsWith("lucene-") || name.startsWith("elasticsearch-")), names.toString());
      String descriptor = new String(zip.getInputStream(zip.getEntry("plugin-descriptor.properties")).readAllBytes());
      assertTrue(descriptor.contains("\nelasticsearch.version=" + Distribution.ofBuild().version() + "\n"), descriptor);
      assertTrue(descriptor.contains("\nname=embedding-gemma\n"), descriptor);
      String policy = new String(zip.getInputStream(zip.getEntry("entitlement-policy.yaml")).readAllBytes());
      assertFalse(policy.contains("outbound_network"), "no network: " + policy);
    }
  }

  @Test
  void installListAndRemoveOnAStockNode() throws Exception {
    Path home = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "plugin-cli-");
    try {
      Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
      Path node = home.resolve("elasticsearch");
      ElasticsearchCluster.run(List.of("cp", "-a", Distribution.ofBuild().stock().toString(), node.toString()));
      Path zip = home.resolve("embedding-gemma.zip");
      Files.copy(Path.of(System.getProperty("plugin.zip")), zip);
      if (ElasticsearchCluster.ROOT) {
        ElasticsearchCluster.run(List.of("chown", "-R", ElasticsearchCluster.RUN_AS + ":", home.toString()));
      }
      assertTrue(cli(node, "install", "--batch", zip.toUri().toString()).contains("-> Installed embedding-gemma"));
      assertEquals("embedding-gemma", cli(node, "list").trim());
      assertTrue(Files.exists(node.resolve("plugins/embedding-gemma/entitlement-policy.yaml")));
      cli(node, "remove", "embedding-gemma");
      assertEquals("", cli(node, "list").trim());
      assertFalse(Files.exists(node.resolve("plugins/embedding-gemma")));
    } finally {
      ElasticsearchCluster.run(List.of("rm", "-rf", home.toString()));
    }
  }

  @Test
  void aNodeOfAnotherVersionRefusesTheZipWithElasticsearchsOwnMessage() throws Exception {
    Distribution other = Distribution.other();
    Path home = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "plugin-cli-other-");
    try {
      Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
      Path node = home.resolve("elasticsearch");
      ElasticsearchCluster.run(List.of("cp", "-a", other.stock().toString(), node.toString()));
      Path zip = home.resolve("embedding-gemma.zip");
      Files.copy(Path.of(System.getProperty("plugin.zip")), zip);
      if (ElasticsearchCluster.ROOT) {
        ElasticsearchCluster.run(List.of("chown", "-R", ElasticsearchCluster.RUN_AS + ":", home.toString()));
      }
      IllegalStateException refused = assertThrows(IllegalStateException.class, () -> cli(node, "install", "--batch", zip.toUri().toString()));
      String expected =
          "Plugin [embedding-gemma] was built for Elasticsearch version " + Distribution.ofBuild().version() + " but version "
              + other.version() + " is running";
      assertTrue(refused.getMessage().contains(expected), refused.getMessage());
      assertFalse(Files.exists(node.resolve("plugins/embedding-gemma")));
    } finally {
      ElasticsearchCluster.run(List.of("rm", "-rf", home.toString()));
    }
  }

  private static String cli(Path node, String... args) throws Exception {
    List<String> command = new ArrayList<>(ElasticsearchCluster.nodeCommand());
    command.add(node.resolve("bin/elasticsearch-plugin").toString());
    command.addAll(List.of(args));
    return ElasticsearchCluster.run(command);
  }
}
