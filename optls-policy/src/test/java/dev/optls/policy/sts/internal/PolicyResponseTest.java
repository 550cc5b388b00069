package dev.optls.policy.sts.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.policy.sts.StsFetchFailure;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** The response reader of policy fetches (RFC 9112 framing, RFC 8461 §3.3 checks), on bytes. */
class PolicyResponseTest {

    private static final int LIMIT = 64;

    private static PolicyResponse.Result read(String response) throws IOException {
        return PolicyResponse.read(new ByteArrayInputStream(response.getBytes(StandardCharsets.ISO_8859_1)), LIMIT);
    }

    private static String body(PolicyResponse.Result result) {
        assertThat(result).isInstanceOf(PolicyResponse.Body.class);
        return new String(((PolicyResponse.Body) result).bytes(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void bodiesAreFramedByLengthByChunksOrByTheEndOfTheConnection() throws IOException {
        assertThat(body(read("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhelloEXTRA")))
                .isEqualTo("hello");
        // Chunk extensions and trailer fields are skipped; a bare LF ends a line too.
        assertThat(body(read("HTTP/1.1 200 OK\r\ncontent-type: Text/Plain; charset=utf-8\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n"
                        + "3;ext=1\r\nhel\r\n2\nlo\r\n0\r\nX-Trailer: t\r\n\r\n")))
                .isEqualTo("hello");
        // RFC 9112 §6.3: a transfer coding overrides Content-Length.
        assertThat(body(read("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")))
                .isEqualTo("hello");
        assertThat(body(read("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end")))
                .isEqualTo("to the end");
        // Interim responses come before the final one.
        assertThat(body(read("HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
                        + "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")))
                .isEqualTo("ok");
    }

    @Test
    void statusTypeAndSizeAreDecidedBeforeTheBody() throws IOException {
        assertThat(read("HTTP/1.1 302 Found\r\nLocation: https://elsewhere.test/\r\n\r\n"))
                .isEqualTo(new PolicyResponse.Rejected(
                        StsFetchFailure.REDIRECT,
                        "HTTP 302 redirect to https://elsewhere.test/; redirects are not followed (RFC 8461 §3.3)"));
        assertThat(read("HTTP/1.1 204 No Content\r\n\r\n"))
                .isEqualTo(new PolicyResponse.Rejected(StsFetchFailure.HTTP_STATUS, "HTTP 204 instead of 200"));
        assertThat(read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
                .isInstanceOfSatisfying(
                        PolicyResponse.Rejected.class,
                        r -> assertThat(r.failure()).isEqualTo(StsFetchFailure.CONTENT_TYPE));
        assertThat(read("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 65\r\n\r\n"))
                .isInstanceOfSatisfying(
                        PolicyResponse.Rejected.class,
                        r -> assertThat(r.detail()).startsWith("Content-Length 65 is more than the 64 bytes"));
        assertThat(read("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" + "40\r\n"
                        + "a".repeat(64) + "\r\n1\r\n"))
                .isInstanceOfSatisfying(
                        PolicyResponse.Rejected.class,
                        r -> assertThat(r.failure()).isEqualTo(StsFetchFailure.TOO_LARGE));
        assertThat(read("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + "b".repeat(65)))
                .isInstanceOfSatisfying(
                        PolicyResponse.Rejected.class,
                        r -> assertThat(r.detail()).startsWith("the body (more than 64 bytes read)"));
    }

    @Test
    void whatIsNotHttpIsAnIoErrorSayingWhatWasWrong() {
        assertError("SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.x response: 'SSH-2.0-OpenSSH'");
        assertError("HTTP/1.1 2x0 OK\r\n\r\n", "no status code");
        assertError("HTTP/1.1 200 OK\r\n folded: value\r\n\r\n", "malformed header field");
        assertError(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
                "two different Content-Length fields");
        assertError(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length");
        assertError(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nshort",
                "the connection closed after 5 of 9 body bytes");
        assertError(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "invalid chunk size 'zz'");
        assertError(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
                "a chunk does not end where its size says");
        assertError("HTTP/1.1 200 OK\r\n" + "X: y\r\n".repeat(101) + "\r\n", "more than 100 header fields");
        assertError("HTTP/1.1 200 OK\r\nX: " + "y".repeat(9000) + "\r\n\r\n", "a header field longer than 8192 bytes");
        assertError("HTTP/1.1 100 Continue\r\n\r\n".repeat(7), "more than 5 interim (1xx) responses");
        assertError("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", "the connection closed in a header field");
    }

    private static void assertError(String response, String message) {
        assertThatThrownBy(() -> read(response)).isInstanceOf(IOException.class).hasMessageContaining(message);
    }

    /** Whatever the server sends: a result within the limit, or an IOException; nothing else, nothing unbounded. */
    @Property(tries = 2000)
    void anyBytesAreAResultOrAnIoError(@ForAll @Size(max = 600) byte[] bytes) {
        check(bytes);
    }

    /** The same for near-valid responses: a valid head followed by arbitrary text. */
    @Property(tries = 2000)
    void anyBodyAfterAValidHeadIsAResultOrAnIoError(
            @ForAll @StringLength(max = 300) String rest, @ForAll boolean chunked) {
        String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                + (chunked ? "Transfer-Encoding: chunked\r\n" : "")
                + "\r\n";
        check((head + rest).getBytes(StandardCharsets.UTF_8));
    }

    private static void check(byte[] bytes) {
        try {
            PolicyResponse.Result result = PolicyResponse.read(new ByteArrayInputStream(bytes), LIMIT);
            if (result instanceof PolicyResponse.Body body) {
                assertThat(body.bytes().length).isLessThanOrEqualTo(LIMIT);
            } else {
                assertThat(((PolicyResponse.Rejected) result).detail()).hasSizeLessThan(400);
            }
        } catch (IOException e) {
            assertThat(e.getMessage()).isNotBlank().hasSizeLessThan(400);
        }
    }
}
