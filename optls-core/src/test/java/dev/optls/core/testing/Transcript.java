package dev.optls.core.testing;

import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.SecurityLevel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A wire transcript: segments of {@code S:} (server to client) and {@code C:} (client to server) lines
 * separated by {@code -- TLS --}, {@code A:} lines for the application's answers to delivered commands
 * (server transcripts), and a final {@code == } line naming the expected outcome.
 *
 * <p>{@code @ key=value ...} lines set options for the test that replays it (level, protocol...).
 *
 * <p>Each {@code S:}/{@code C:} line gets CRLF appended unless it ends with {@code \\} (no line end).
 * Escapes: {@code \r}, {@code \n}, {@code \xHH}, {@code \\}. Lines starting with {@code #} are comments.
 */
public record Transcript(String name, List<Segment> segments, String expected, java.util.Map<String, String> options) {

    /** Bytes each way between two TLS boundaries, and the application's answers in order. */
    public record Segment(byte[] fromServer, byte[] fromClient, List<String> answers) {}

    /** The names of the transcripts in resource directory {@code dir} that start with {@code prefix}. */
    public static java.util.stream.Stream<String> names(String dir, String prefix) {
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(
                java.nio.file.Path.of(Transcript.class.getResource(dir).toURI()))) {
            return files
                    .map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(prefix))
                    .sorted()
                    .toList()
                    .stream();
        } catch (IOException | java.net.URISyntaxException e) {
            throw new IllegalStateException("cannot list " + dir, e);
        }
    }

    /**
     * The limits the {@code @} options name ({@code maxLineLength}, {@code maxReplyLines}, {@code
     * maxLiteralBytes}, {@code maxErrors}), the test's defaults otherwise.
     */
    public Limits limits(int defaultReplyLines, int defaultLiteralBytes) {
        return new Limits(
                option("maxLineLength", 4096),
                option("maxReplyLines", defaultReplyLines),
                65536,
                option("maxLiteralBytes", defaultLiteralBytes),
                option("maxErrors", 20));
    }

    /** Client options from {@code @ level=…} and {@code @ implicit=…}, with {@link #limits} (256 lines, 1 KiB literals). */
    public ClientOptions clientOptions() {
        return clientOptions(limits(256, 1024));
    }

    /** Client options from {@code @ level=…} and {@code @ implicit=…}, with {@code limits}. */
    public ClientOptions clientOptions(Limits limits) {
        return ClientOptions.of(SecurityLevel.valueOf(options.get("level").toUpperCase(Locale.ROOT)))
                .withImplicitTls(Boolean.parseBoolean(options.getOrDefault("implicit", "false")))
                .withLimits(limits);
    }

    private int option(String key, int defaultValue) {
        return Integer.parseInt(options.getOrDefault(key, String.valueOf(defaultValue)));
    }

    public static Transcript load(String resource) {
        try (InputStream in = Transcript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no transcript " + resource);
            }
            return parse(resource, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Transcript parse(String name, String text) {
        List<Segment> segments = new ArrayList<>();
        Bytes server = new Bytes();
        Bytes client = new Bytes();
        List<String> answers = new ArrayList<>();
        String expected = null;
        java.util.Map<String, String> options = new java.util.HashMap<>();
        for (String raw : text.split("\n", -1)) {
            String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (line.equals("-- TLS --")) {
                segments.add(new Segment(server.take(), client.take(), List.copyOf(answers)));
                answers.clear();
            } else if (line.startsWith("S: ") || line.equals("S:")) {
                server.addLine(line.substring(Math.min(3, line.length())));
            } else if (line.startsWith("C: ") || line.equals("C:")) {
                client.addLine(line.substring(Math.min(3, line.length())));
            } else if (line.startsWith("A: ")) {
                answers.add(line.substring(3));
            } else if (line.startsWith("@ ")) {
                for (String kv : line.substring(2).strip().split("\\s+")) {
                    String[] parts = kv.split("=", 2);
                    options.put(parts[0], parts.length > 1 ? parts[1] : "true");
                }
            } else if (line.startsWith("== ")) {
                expected = line.substring(3).strip();
            } else {
                throw new IllegalArgumentException(name + ": cannot parse line: " + line);
            }
        }
        segments.add(new Segment(server.take(), client.take(), List.copyOf(answers)));
        if (expected == null) {
            throw new IllegalArgumentException(name + ": no '== outcome' line");
        }
        return new Transcript(name, List.copyOf(segments), expected, java.util.Map.copyOf(options));
    }

    private static final class Bytes {
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();

        void addLine(String escaped) {
            boolean noEol = escaped.endsWith("\\") && !escaped.endsWith("\\\\");
            byte[] b = unescape(noEol ? escaped.substring(0, escaped.length() - 1) : escaped);
            out.write(b, 0, b.length);
            if (!noEol) {
                out.write('\r');
                out.write('\n');
            }
        }

        byte[] take() {
            byte[] b = out.toByteArray();
            out.reset();
            return b;
        }
    }

    static byte[] unescape(String s) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                switch (n) {
                    case 'r' -> out.write('\r');
                    case 'n' -> out.write('\n');
                    case '\\' -> out.write('\\');
                    case 'x' -> {
                        out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                        i += 2;
                    }
                    default -> throw new IllegalArgumentException("bad escape \\" + n);
                }
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        return out.toByteArray();
    }
}
