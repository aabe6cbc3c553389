package org.embeddinggemma.engine;

import ai.onnxruntime.OrtEnvironment;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Sets up the native libraries of ONNX Runtime and DJL tokenizers, once per JVM, so that an engine
 * inside a search node stays off the network and writes only under {@code java.io.tmpdir}:
 *
 * <ul>
 *   <li>ONNX Runtime's telemetry is off ({@value #ORT_TELEMETRY_OPT_OUT} in the process
 *       environment before its environment is created: afterwards is too late, it has already
 *       written a device id under {@code ~/.cache/Microsoft} and queued events for
 *       {@code mobile.events.data.microsoft.com});
 *   <li>ONNX Runtime's libraries are extracted once into {@value #NATIVE_FOLDER}-USER/ of the temp
 *       directory and reused, instead of a new {@code onnxruntime-java<random>} folder per start
 *       that only the JVM's exit would remove;
 *   <li>DJL tokenizers uses the CPU build bundled in its jar ({@code RUST_FLAVOR=cpu}, offline),
 *       even on hosts with a CUDA GPU, where it would otherwise try to download a CUDA build, and
 *       caches it in the same folder rather than in {@code ~/.djl.ai};
 *   <li>DJL's telemetry and EC2 metadata probe are off ({@code OPT_OUT_TRACKING});
 *   <li>JNA extracts its library into the same folder rather than {@code ~/.cache/JNA}.
 * </ul>
 *
 * A setting the user made (a system property or environment variable of the same name) is kept.
 */
public final class NativeRuntime {

  /** ONNX Runtime reads this environment variable when its environment is created. */
  static final String ORT_TELEMETRY_OPT_OUT = "ORT_DISABLE_TELEMETRY";

  /** DJL probes the EC2 metadata endpoint and sends telemetry unless this is set. */
  static final String DJL_TELEMETRY_OPT_OUT = "OPT_OUT_TRACKING";

  /** The DJL tokenizers build to use: {@code cpu} is the one bundled in the jar. */
  static final String DJL_FLAVOR = "RUST_FLAVOR";

  /** Stops DJL from downloading anything. */
  static final String DJL_OFFLINE = "ai.djl.offline";

  /** Where DJL extracts its native library. */
  static final String DJL_CACHE = "ENGINE_CACHE_DIR";

  /** Where ONNX Runtime loads its libraries from instead of extracting them. */
  static final String ORT_NATIVE_PATH = "onnxruntime.native.path";

  /** Where JNA extracts its native library; by default under {@code ~/.cache/JNA}. */
  static final String JNA_TEMP = "jna.tmpdir";

  /**
   * Where JNA looks for libraries by name. Set, it spares JNA the probe of the system's library
   * folders (and of {@code ldconfig}) that it otherwise runs when first used, which a sandbox may
   * forbid (Elasticsearch 9.0 and 9.1 do); the engine only looks up symbols already in the process.
   */
  static final String JNA_LIBRARY_PATH = "jna.platform.library.path";

  /** Prefix of the folder in {@code java.io.tmpdir} that holds the extracted libraries. */
  public static final String NATIVE_FOLDER = "embedding-gemma-native";

  private static boolean prepared;

  private NativeRuntime() {}

  /**
   * The system properties this class may set; a host that restricts them (Elasticsearch's
   * entitlements) must allow these.
   */
  public static Set<String> systemProperties() {
    return Set.of(DJL_TELEMETRY_OPT_OUT, DJL_FLAVOR, DJL_OFFLINE, DJL_CACHE, ORT_NATIVE_PATH, JNA_TEMP, JNA_LIBRARY_PATH);
  }

  /** The folder of the temp directory that holds the extracted native libraries. */
  public static Path nativeFolder() {
    return Path.of(System.getProperty("java.io.tmpdir"))
        .resolve(NATIVE_FOLDER + "-" + System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.-]", "_"));
  }

  /** Prepares the native libraries before the first tokenizer or session; cheap after the first call. */
  static synchronized void prepare() {
    if (prepared) {
      return;
    }
    prepared = true;
    setIfUnset(DJL_TELEMETRY_OPT_OUT, "true");
    setIfUnset(DJL_FLAVOR, "cpu");
    setIfUnset(DJL_OFFLINE, "true");
    Path folder = nativeFolder();
    if (System.getenv(DJL_CACHE) == null && System.getProperty(DJL_CACHE) == null && System.getenv("DJL_CACHE_DIR") == null
        && System.getProperty("DJL_CACHE_DIR") == null) {
      System.setProperty(DJL_CACHE, folder.resolve("djl").toString());
    }
    setIfUnset(JNA_TEMP, folder.resolve("jna").toString());
    setIfUnset(JNA_LIBRARY_PATH, folder.resolve("jna").toString());
    if (System.getenv(ORT_TELEMETRY_OPT_OUT) == null) {
      setEnvironment(ORT_TELEMETRY_OPT_OUT, "1");
    }
  }

  /**
   * The ONNX Runtime environment, its libraries loaded from {@link #nativeFolder()} and its telemetry
   * off.
   *
   * @throws ModelLoadException if the native library does not load on this platform
   */
  static OrtEnvironment onnxEnvironment() {
    prepare();
    Path temp = Path.of(System.getProperty("java.io.tmpdir"));
    Set<Path> before = ortTempFolders(temp);
    try {
      extractOnnxRuntime();
      OrtEnvironment environment;
      try {
        environment = OrtEnvironment.getEnvironment();
      } catch (SecurityException refused) {
        // Asked of what the host allows, not of its version: a sandbox that forbids shutdown hooks.
        environment = OnnxEnvironmentWithoutShutdownHook.create();
      }
      environment.setTelemetry(false);
      return environment;
    } catch (ModelLoadException e) {
      throw e;
    } catch (Exception | LinkageError e) {
      throw new ModelLoadException(
          "cannot load the ONNX Runtime native library for " + System.getProperty("os.name") + "/" + System.getProperty("os.arch"), e);
    } finally {
      // ONNX Runtime makes a folder for its extraction even when told where the libraries are.
      for (Path folder : ortTempFolders(temp)) {
        if (!before.contains(folder)) {
          try {
            Files.deleteIfExists(folder);
          } catch (IOException notEmpty) {
            // It extracted something after all; the JVM's exit removes it.
          }
        }
      }
    }
  }

  private static void extractOnnxRuntime() throws IOException {
    if (System.getProperty(ORT_NATIVE_PATH) != null) {
      return;
    }
    String platform = onnxPlatform();
    String version = OrtEnvironment.class.getPackage().getImplementationVersion();
    String[] libraries = {System.mapLibraryName("onnxruntime"), System.mapLibraryName("onnxruntime4j_jni")};
    if (platform == null || version == null || libraries[0].endsWith(".dll")) {
      return; // ONNX Runtime's own extraction; Windows cannot replace a loaded library anyway
    }
    Path folder = nativeFolder().resolve("onnxruntime-" + version + "-" + platform);
    for (String library : libraries) {
      String resource = "/ai/onnxruntime/native/" + platform + "/" + library.replace("jnilib", "dylib");
      try (InputStream in = OrtEnvironment.class.getResourceAsStream(resource)) {
        if (in == null) {
          return;
        }
        Path target = folder.resolve(library.replace("jnilib", "dylib"));
        if (!ownFolder(folder)) {
          return; // another user's folder in a shared temp dir: never load libraries from it
        }
        if (Files.isRegularFile(target)) {
          continue;
        }
        Path partial = Files.createTempFile(folder, library, ".partial");
        Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    System.setProperty(ORT_NATIVE_PATH, folder.toString());
  }

  /** Creates the folder for this user only, or checks that an existing one is this user's. */
  private static boolean ownFolder(Path folder) throws IOException {
    if (!Files.isDirectory(folder)) {
      Files.createDirectories(folder.getParent());
      try {
        Files.createDirectory(folder, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (UnsupportedOperationException e) {
        Files.createDirectories(folder);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // made by a concurrent start; checked below
      }
    }
    return Files.getOwner(folder).getName().equals(System.getProperty("user.name"));
  }

  private static String onnxPlatform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String osName = os.contains("linux") ? "linux" : os.contains("mac") ? "osx" : null;
    String archName = arch.equals("amd64") || arch.equals("x86_64") ? "x64" : arch.equals("aarch64") ? "aarch64" : null;
    return osName == null || archName == null ? null : osName + "-" + archName;
  }

  private static Set<Path> ortTempFolders(Path temp) {
    Set<Path> folders = new HashSet<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(temp, "onnxruntime-java*")) {
      entries.forEach(folders::add);
    } catch (IOException e) {
      // An unreadable temp dir: nothing to clean.
    }
    return folders;
  }

  private static void setIfUnset(String name, String value) {
    if (System.getenv(name) == null && System.getProperty(name) == null) {
      System.setProperty(name, value);
    }
  }

  /**
   * Gives the memory that native code has freed back to the operating system. glibc keeps freed
   * blocks in its arenas for reuse: a closed ONNX Runtime session of EmbeddingGemma leaves hundreds
   * of megabytes resident, and each reload of a model adds as much again (measured: +300 MB per
   * reload of the full-scale graph without this, flat with it). {@code malloc_trim(0)} returns
   * every free page of every arena. A no-op where the C library has no such function (macOS,
   * Windows, musl); never fails.
   */
  public static void releaseFreedNativeMemory() {
    if (!Platform.isLinux()) {
      return;
    }
    try {
      processSymbols().getFunction("malloc_trim").invokeInt(new Object[] {0});
    } catch (RuntimeException | LinkageError e) {
      // Not glibc: its allocator returns memory by itself, or not at all; nothing to do here.
    }
  }

  /**
   * The symbols already loaded into this process, the C library's among them. Looked up in the
   * process rather than by library name: finding {@code libc} by name makes JNA read the system's
   * library folders, which a sandbox may forbid (Elasticsearch 9.0 and 9.1 do).
   */
  private static NativeLibrary processSymbols() {
    return NativeLibrary.getProcess();
  }

  /**
   * Sets a variable of this process's environment, which native libraries read with getenv; Java
   * has no API for it. Only on POSIX systems, before any native library reads it.
   */
  private static void setEnvironment(String name, String value) {
    if (Platform.isWindows()) {
      return;
    }
    try {
      processSymbols().getFunction("setenv").invokeInt(new Object[] {name, value, 0});
    } catch (RuntimeException | LinkageError e) {
      throw new ModelLoadException("cannot set " + name + " in the process environment to turn ONNX Runtime's telemetry off", e);
    }
  }
}
