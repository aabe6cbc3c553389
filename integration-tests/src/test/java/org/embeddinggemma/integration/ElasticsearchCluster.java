package org.embeddinggemma.integration;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Real Elasticsearch nodes on loopback: processes started from copies of the build's {@link
 * Distribution} (the plugin installed as a user would), models copied to {@code
 * config/embedding-gemma/<model_id>/}; requests go through a {@link RestClient}.
 *
 * <p>Elasticsearch refuses to run as root: when the tests run as root, the nodes run as the
 * unprivileged user {@value #RUN_AS}, created if needed, and their files live in a world-traversable
 * folder under the system temp directory.
 */
final class ElasticsearchCluster implements AutoCloseable {

  static final String RUN_AS = "esnode";
  static final boolean ROOT = "root".equals(System.getProperty("user.name"));

  private final Path root;
  private final String adminCredentials;
  private final List<Node> nodes = new ArrayList<>();
  private final Map<Node, List<String>> startCommands = new LinkedHashMap<>();

  /** One node: its home and ports. */
  record Node(String name, Path home, int httpPort, int transportPort) {
    URI uri(String path) {
      return URI.create("http://127.0.0.1:" + httpPort + path);
    }
  }

  /** A REST response: status and JSON body. */
  record Response(int status, JsonElement body) {
    JsonObject json() {
      return body.getAsJsonObject();
    }
  }

  private final RestClient rest = new RestClient();

  private ElasticsearchCluster(Path root, String adminCredentials) {
    this.root = root;
    this.adminCredentials = adminCredentials;
  }

  /** A node's home before it starts, for extra configuration such as users. */
  interface HomeSetup {
    void prepare(Path home) throws Exception;
  }

  /**
   * Starts {@code size} nodes that form one cluster.
   *
   * @param models model id to the directory to install under it
   * @param settings extra node settings
   */
  static ElasticsearchCluster start(String name, int size, Map<String, Path> models, Map<String, String> settings) throws Exception {
    return start(name, size, models, settings, Map.of(), home -> {}, null);
  }

  /**
   * As {@link #start(String, int, Map, Map)}, with environment variables for the node processes,
   * and security turned on when {@code adminCredentials} ({@code user:password}) is given; {@code
   * setup} must then create that user.
   */
  static ElasticsearchCluster start(
      String name, int size, Map<String, Path> models, Map<String, String> settings, Map<String, String> environment,
      HomeSetup setup, String adminCredentials)
      throws Exception {
    Path installed = Distribution.ofBuild().withPlugin();
    Path root = Files.createTempDirectory(installed.getParent(), name + "-");
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
    ElasticsearchCluster cluster = new ElasticsearchCluster(root, adminCredentials);
    try {
      List<Integer> transportPorts = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        Path home = root.resolve("node-" + i);
        run(List.of("cp", "-a", installed.toString(), home.toString()));
        for (Map.Entry<String, Path> model : models.entrySet()) {
          Path target = home.resolve("config/embedding-gemma").resolve(model.getKey());
          Files.createDirectories(target.getParent());
          run(List.of("cp", "-rL", model.getValue().toString(), target.toString()));
        }
        // The node's temp dir (native libraries are extracted there) goes away with the node's folder.
        Files.createDirectories(home.resolve("tmp"));
        // A home of its own, to see that nothing is written outside the node's folders.
        Files.createDirectories(home.resolve("home"));
        if (ROOT) {
          run(List.of("chown", "-R", RUN_AS + ":", home.toString()));
        }
        setup.prepare(home);
        int transportPort = freePort();
        transportPorts.add(transportPort);
        cluster.nodes.add(new Node("node-" + i, home, freePort(), transportPort));
      }
      for (Node node : cluster.nodes) {
        Map<String, String> nodeSettings = new LinkedHashMap<>();
        nodeSettings.put("cluster.name", name);
        nodeSettings.put("node.name", node.name());
        nodeSettings.put("network.host", "127.0.0.1");
        nodeSettings.put("http.port", Integer.toString(node.httpPort()));
        nodeSettings.put("transport.port", Integer.toString(node.transportPort()));
        nodeSettings.put("xpack.security.enabled", Boolean.toString(adminCredentials != null));
        if (adminCredentials != null) {
          nodeSettings.put("xpack.security.http.ssl.enabled", "false");
          nodeSettings.put("xpack.security.transport.ssl.enabled", "false");
        }
        nodeSettings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
        if (size == 1) {
          nodeSettings.put("discovery.type", "single-node");
        } else {
          nodeSettings.put("discovery.seed_hosts", transportPorts.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(",")));
          nodeSettings.put("cluster.initial_master_nodes", "node-0");
        }
        nodeSettings.putAll(settings);
        List<String> command = new ArrayList<>(nodeCommand());
        command.addAll(List.of(
            "ES_JAVA_OPTS=-Xms1g -Xmx1g",
            "ES_TMPDIR=" + node.home().resolve("tmp"),
            "HOME=" + node.home().resolve("home")));
        environment.forEach((key, value) -> command.add(key + "=" + value));
        command.addAll(List.of(
            node.home().resolve("bin/elasticsearch").toString(), "-d", "-p", node.home().resolve("pid").toString()));
        nodeSettings.forEach((key, value) -> command.add("-E" + key + "=" + value));
        cluster.startCommands.put(node, List.copyOf(command));
        cluster.startProcess(node);
      }
      cluster.waitForGreen();
      return cluster;
    } catch (Exception | AssertionError e) {
      cluster.close();
      throw e;
    }
  }

  private void startProcess(Node node) throws IOException, InterruptedException {
    try {
      run(startCommands.get(node));
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + "\n" + log(node), e);
    }
  }

  private void waitForGreen() {
    Response health = request("GET", "/_cluster/health?wait_for_nodes=" + nodes.size() + "&wait_for_status=green&timeout=90s", null);
    if (health.status() != 200) {
      throw new IllegalStateException("cluster did not form: " + health.body());
    }
  }

  /**
   * Stops a node gracefully and starts it again with the same settings.
   *
   * @return the time from the start command to a green cluster
   */
  Duration restart(Node node) throws IOException, InterruptedException {
    stopProcess(node);
    long start = System.nanoTime();
    startProcess(node);
    waitForGreen();
    return Duration.ofNanos(System.nanoTime() - start);
  }

  private static void stopProcess(Node node) throws IOException, InterruptedException {
    Path pidFile = node.home().resolve("pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    String pid = Files.readString(pidFile).trim();
    new ProcessBuilder("kill", pid).start().waitFor();
    for (int i = 0; i < 60 && Files.exists(Path.of("/proc", pid)); i++) {
      Thread.sleep(500);
    }
    new ProcessBuilder("kill", "-9", pid).start().waitFor();
    for (int i = 0; i < 20 && Files.exists(Path.of("/proc", pid)); i++) {
      Thread.sleep(100);
    }
  }

  /**
   * The prefix of every Elasticsearch command: the unprivileged user when running as root, and a
   * JDK as ES_JAVA_HOME without JAVA_HOME, which Elasticsearch would warn about. The JDK is {@code
   * -Dnode.java.home} when set (to run a node on another Java than the tests), else the test JVM's.
   */
  static List<String> nodeCommand() {
    List<String> prefix = new ArrayList<>(ROOT ? List.of("runuser", "-u", RUN_AS, "--") : List.of());
    String javaHome = System.getProperty("node.java.home", "");
    prefix.addAll(List.of("env", "-u", "JAVA_HOME", "ES_JAVA_HOME=" + (javaHome.isBlank() ? System.getProperty("java.home") : javaHome)));
    return prefix;
  }

  /** Runs a command to completion; fails with its output if it exits non-zero. */
  static String run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException("command failed: " + command + "\n" + output);
    }
    return output;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  List<Node> nodes() {
    return nodes;
  }

  /** A request to the first node, as the admin user when security is on. */
  Response request(String method, String path, String body) {
    return request(nodes.get(0), method, path, body);
  }

  /** A request to a node, as the admin user when security is on. */
  Response request(Node node, String method, String path, String body) {
    return requestAs(adminCredentials, node, method, path, body);
  }

  /**
   * A request to a node; {@code body} is JSON, or NDJSON for {@code _bulk}.
   *
   * @param credentials {@code user:password} for basic authentication, or null for none
   */
  Response requestAs(String credentials, Node node, String method, String path, String body) {
    return rest.send(credentials, node.uri(path), method, body);
  }

  /**
   * Creates an index whose {@code vector} field holds byte vectors of {@code dims}, cosine, HNSW,
   * as the processor's default {@code element_type} writes them.
   */
  void createByteVectorIndex(String index, int dims, String settingsJson) {
    expectOk(request("PUT", "/" + index, """
        {"settings": %s,
         "mappings": {"properties": {"vector": {"type": "dense_vector", "dims": %d, "element_type": "byte",
           "similarity": "cosine", "index_options": {"type": "hnsw"}}}}}""".formatted(settingsJson, dims)));
  }

  /** Creates a pipeline that embeds {@code text} into {@code vector} with the node's default model. */
  void createEmbeddingPipeline(String id) {
    expectOk(request("PUT", "/_ingest/pipeline/" + id, """
        {"processors": [{"embedding_gemma": {"field": "text", "target_field": "vector"}}]}"""));
  }

  private static void expectOk(Response response) {
    if (response.status() != 200) {
      throw new AssertionError("status " + response.status() + ": " + response.body());
    }
  }

  /** The last lines of the node's log, for failure messages. */
  String log(Node node) {
    List<String> lines = fullLog(node).lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }

  /** The node's whole main log ({@code logs/<cluster name>.log}). */
  String fullLog(Node node) {
    try (Stream<Path> logs = Files.list(node.home().resolve("logs"))) {
      Path main = logs.filter(p -> p.getFileName().toString().endsWith(".log") && !p.getFileName().toString().equals("gc.log")).findFirst().orElseThrow();
      return Files.readString(main);
    } catch (IOException | java.util.NoSuchElementException e) {
      return "<no log: " + e + ">";
    }
  }

  /** The node process's resident memory (VmRSS), in bytes. */
  long residentBytes(Node node) throws IOException {
    String pid = Files.readString(node.home().resolve("pid")).trim();
    for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS for process " + pid);
  }

  /** Whether the node's process is alive. */
  boolean alive(Node node) throws IOException {
    Path pid = node.home().resolve("pid");
    return Files.exists(pid) && Files.exists(Path.of("/proc", Files.readString(pid).trim()));
  }

  @Override
  public void close() throws IOException {
    try {
      for (Node node : nodes) {
        stopProcess(node);
      }
      if (!Boolean.getBoolean("keep.nodes")) {
        run(List.of("rm", "-rf", root.toString()));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while stopping the nodes in " + root, e);
    }
  }
}
