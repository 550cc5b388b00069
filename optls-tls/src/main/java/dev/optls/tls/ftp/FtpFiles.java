package dev.optls.tls.ftp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The read-only content an {@link FtpReadOnlyServer} serves: files by absolute path ({@code /pub/a.txt});
 * directories are the paths' prefixes.
 */
public final class FtpFiles {
    private static final long MAX_SNAPSHOT_BYTES = 64L * 1024 * 1024;
    private final TreeMap<String, byte[]> files = new TreeMap<>();

    private FtpFiles(Map<String, byte[]> content) {
        content.forEach((path, bytes) -> files.put(normalize("/", path), bytes.clone()));
    }

    /** In-memory files, e.g. {@code Map.of("/pub/hello.txt", bytes)}. */
    public static FtpFiles of(Map<String, byte[]> content) {
        return new FtpFiles(content);
    }

    /** A snapshot of the regular files under {@code root} (at most 64 MiB in all). */
    public static FtpFiles snapshotOf(Path root) {
        Map<String, byte[]> content = new TreeMap<>();
        long total = 0;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                byte[] bytes = Files.readAllBytes(p);
                total += bytes.length;
                if (total > MAX_SNAPSHOT_BYTES) {
                    throw new IllegalArgumentException(root + " holds more than " + MAX_SNAPSHOT_BYTES + " bytes");
                }
                content.put("/" + root.relativize(p).toString().replace('\\', '/'), bytes);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + root, e);
        }
        return new FtpFiles(content);
    }

    /** An absolute, normalized path for {@code path} relative to {@code cwd} ({@code ..} stops at /). */
    static String normalize(String cwd, String path) {
        List<String> parts = new ArrayList<>();
        String full = path.startsWith("/") ? path : cwd + "/" + path;
        for (String part : full.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.remove(parts.size() - 1);
                }
            } else {
                parts.add(part);
            }
        }
        return "/" + String.join("/", parts);
    }

    Optional<byte[]> file(String path) {
        byte[] b = files.get(path);
        return Optional.ofNullable(b == null ? null : b.clone());
    }

    boolean isDirectory(String path) {
        String prefix = path.equals("/") ? "/" : path + "/";
        return path.equals("/") || files.keySet().stream().anyMatch(p -> p.startsWith(prefix));
    }

    /** Direct children of a directory: name to size, or -1 for a directory. */
    Map<String, Long> children(String dir) {
        String prefix = dir.equals("/") ? "/" : dir + "/";
        Map<String, Long> out = new TreeMap<>();
        for (Map.Entry<String, byte[]> e : files.tailMap(prefix).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            String rest = e.getKey().substring(prefix.length());
            int slash = rest.indexOf('/');
            if (slash < 0) {
                out.put(rest, (long) e.getValue().length);
            } else {
                out.put(rest.substring(0, slash), -1L);
            }
        }
        return out;
    }
}
