package org.embeddinggemma.engine;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * ONNX Runtime's environment, made the way {@link OrtEnvironment#getEnvironment()} makes it but
 * without the JVM shutdown hook its constructor registers, for hosts whose sandbox forbids shutdown
 * hooks: Elasticsearch 9.0 and 9.1 never entitle a plugin to add one ({@code
 * Runtime#addShutdownHook} is a JVM-wide change there), so the constructor fails. The hook only
 * frees the environment when the JVM exits, which the exit does anyway.
 *
 * <p>This reaches into ONNX Runtime's internals (the private native {@code createHandle} and {@code
 * getDefaultAllocator}, the {@code INSTANCE} singleton) as the pinned version (1.29) has them; a
 * version that changes them fails here with a message naming what is missing, and only on such
 * hosts.
 */
final class OnnxEnvironmentWithoutShutdownHook {

  private OnnxEnvironmentWithoutShutdownHook() {}

  /**
   * The process's environment, made and registered as ONNX Runtime's singleton, so that later calls
   * to {@link OrtEnvironment#getEnvironment()} return it.
   *
   * @throws ModelLoadException if ONNX Runtime's internals are not as expected or the native call fails
   */
  static OrtEnvironment create() {
    try {
      Class<OrtEnvironment> type = OrtEnvironment.class;
      // Its static initialiser loads the native library and sets the API handle read below.
      Class.forName(type.getName(), true, type.getClassLoader());
      Field unsafeField = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
      unsafeField.setAccessible(true);
      Object unsafe = unsafeField.get(null);
      OrtEnvironment environment = type.cast(unsafe.getClass().getMethod("allocateInstance", Class.class).invoke(unsafe, type));

      Field apiField = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("ortApiHandle");
      apiField.setAccessible(true);
      long api = apiField.getLong(null);
      OrtLoggingLevel level = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING;
      long handle = (long) accessible(type.getDeclaredMethod("createHandle", long.class, int.class, String.class))
          .invoke(null, api, level.getValue(), OrtEnvironment.DEFAULT_NAME);
      long allocatorHandle = (long) accessible(type.getDeclaredMethod("getDefaultAllocator", long.class)).invoke(null, api);
      Constructor<?> allocator = Class.forName("ai.onnxruntime.OrtAllocator").getDeclaredConstructor(long.class, boolean.class);
      allocator.setAccessible(true);

      set(type, "nativeHandle", environment, handle);
      set(type, "defaultAllocator", environment, allocator.newInstance(allocatorHandle, true));
      set(type, "curLogLevel", null, level);
      set(type, "curLoggingName", null, OrtEnvironment.DEFAULT_NAME);
      set(type, "INSTANCE", null, environment);
      return environment;
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new ModelLoadException(
          "cannot make ONNX Runtime's environment without a JVM shutdown hook, which this host forbids: ONNX Runtime "
              + OrtEnvironment.class.getPackage().getImplementationVersion() + " is not laid out as 1.29 is",
          e);
    }
  }

  private static Method accessible(Method method) {
    method.setAccessible(true);
    return method;
  }

  private static void set(Class<?> type, String name, Object target, Object value) throws ReflectiveOperationException {
    Field field = type.getDeclaredField(name);
    field.setAccessible(true);
    field.set(target, value);
  }
}
