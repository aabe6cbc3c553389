package org.embeddinggemma.integration;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One Elasticsearch version's integ-test-zip, as the build unpacked it, and a copy of it with the
 * plugin zip installed by {@code bin/elasticsearch-plugin install}: made once per version and test
 * run, then copied for each node. Nothing here starts a node.
 */
final class Distribution {

  private static final Map<String, Path> withPlugin = new HashMap<>();

  private final String version;
  private final Path home;

  private Distribution(String version, Path home) {
    this.version = version;
    this.home = home;
  }

  /** The version this build's plugin zip is for ({@code -Delasticsearch.version}). */
  static Distribution ofBuild() {
    return new Distribution(System.getProperty("elasticsearch.version"), Path.of(System.getProperty("elasticsearch.home")));
  }

  /** A version other than the build's, unpacked for the test of a zip refused by a node of another version. */
  static Distribution other() {
    return new Distribution(System.getProperty("other.elasticsearch.version"), Path.of(System.getProperty("other.elasticsearch.home")));
  }

  String version() {
    return version;
  }

  /** The distribution as unpacked: no plugin installed. Copy it before use. */
  Path stock() {
    return home;
  }

  /** A copy of the distribution with the build's plugin zip installed, made on first use. */
  Path withPlugin() throws Exception {
    synchronized (withPlugin) {
      Path installed = withPlugin.get(version);
      if (installed == null) {
        installed = install();
        withPlugin.put(version, installed);
      }
      return installed;
    }
  }

  private Path install() throws Exception {
    if (ElasticsearchCluster.ROOT) {
      ProcessBuilder exists = new ProcessBuilder("id", "-u", ElasticsearchCluster.RUN_AS);
      if (exists.start().waitFor() != 0) {
        ElasticsearchCluster.run(List.of("useradd", "--system", "--create-home", "--shell", "/usr/sbin/nologin", ElasticsearchCluster.RUN_AS));
      }
    }
    Path base = Files.createTempDirectory("embedding-gemma-it-");
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    // The distribution copies take a few hundred MB; CI machines are reused.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        ElasticsearchCluster.run(List.of("rm", "-rf", base.toString()));
      } catch (Exception e) {
        System.err.println("cannot remove " + base + ": " + e);
      }
    }));
    Path template = base.resolve("template");
    ElasticsearchCluster.run(List.of("cp", "-a", home.toString(), template.toString()));
    if (ElasticsearchCluster.ROOT) {
      ElasticsearchCluster.run(List.of("chown", "-R", ElasticsearchCluster.RUN_AS + ":", template.toString()));
    }
    Path zip = Path.of(System.getProperty("plugin.zip"));
    Path readableZip = base.resolve(zip.getFileName());
    Files.copy(zip, readableZip);
    Files.setPosixFilePermissions(readableZip, PosixFilePermissions.fromString("rw-r--r--"));
    List<String> install = new ArrayList<>(ElasticsearchCluster.nodeCommand());
    install.addAll(List.of(template.resolve("bin/elasticsearch-plugin").toString(), "install", "--batch", readableZip.toUri().toString()));
    ElasticsearchCluster.run(install);
    return template;
  }
}
