package dev.optls.policy.postfix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class NetstringsTest {

    private static InputStream in(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void encodesAsLengthColonDataComma() {
        assertThat(new String(Netstrings.encode("postfix example.com"), StandardCharsets.US_ASCII))
                .isEqualTo("19:postfix example.com,");
        assertThat(new String(Netstrings.encode(""), StandardCharsets.US_ASCII)).isEqualTo("0:,");
        assertThat(new String(SocketmapReply.notFound().encode(), StandardCharsets.US_ASCII))
                .isEqualTo("9:NOTFOUND ,");
        assertThat(new String(SocketmapReply.ok("dane-only").encode(), StandardCharsets.US_ASCII))
                .isEqualTo("12:OK dane-only,");
    }

    @Test
    void readsSeveralFromOneStreamAndAnEmptyStreamIsTheCleanEnd() throws IOException {
        InputStream s = in("3:abc,0:,11:hello world,");
        assertThat(new String(Netstrings.readRequired(s, 100), StandardCharsets.US_ASCII))
                .isEqualTo("abc");
        assertThat(Netstrings.readRequired(s, 100)).isEmpty();
        assertThat(new String(Netstrings.readRequired(s, 100), StandardCharsets.US_ASCII))
                .isEqualTo("hello world");
        assertThat(Netstrings.read(s, 100)).isEmpty();
    }

    @Test
    void nextTakesWholeNetstringsFromABufferSplitAnywhere() throws IOException {
        byte[] wire = "3:abc,0:,11:hello world,".getBytes(StandardCharsets.US_ASCII);
        for (int split = 0; split <= wire.length; split++) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(64);
            java.util.List<String> got = new java.util.ArrayList<>();
            for (byte[] part : new byte[][] {
                java.util.Arrays.copyOfRange(wire, 0, split), java.util.Arrays.copyOfRange(wire, split, wire.length)
            }) {
                buffer.put(part).flip();
                for (java.util.Optional<byte[]> next; (next = Netstrings.next(buffer, 100)).isPresent(); ) {
                    got.add(new String(next.get(), StandardCharsets.US_ASCII));
                }
                buffer.compact();
            }
            assertThat(got).as("split at %d", split).containsExactly("abc", "", "hello world");
            assertThat(buffer.position()).isZero();
        }
    }

    @Test
    void nextNamesMalformedInputAsSoonAsItIsSeen() {
        for (String[] c : new String[][] {
            {"x", "only digits"},
            {":", "starts with its length"},
            {"01", "leading zeros"},
            {"1000", "longer than"},
            {"3:abc;", "ends with ','"}
        }) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(c[0].getBytes(StandardCharsets.US_ASCII));
            assertThatThrownBy(() -> Netstrings.next(buffer, 100))
                    .as(c[0])
                    .isInstanceOf(Netstrings.MalformedNetstringException.class)
                    .hasMessageContaining(c[1]);
        }
    }

    @Test
    void malformedInputIsNamed() {
        assertMalformed("abc", "only digits");
        assertMalformed(":abc,", "starts with its length");
        assertMalformed("03:abc,", "leading zeros");
        assertMalformed("3:abc;", "ends with ','");
        assertMalformed("3:abc", "the end of the stream");
        assertMalformed("5:abc", "ended inside a netstring (3 of 5");
        assertMalformed("12", "ended inside the length");
        assertMalformed("101:" + "x".repeat(101) + ",", "longer than 100 bytes");
        // Refused at the length, before the data: no allocation for an absurd length.
        assertMalformed("99999999999999999999:", "longer than 100 bytes");
        assertMalformed("-1:", "only digits");
    }

    @Test
    void exactlyTheLimitIsAccepted() throws IOException {
        assertThat(Netstrings.readRequired(in("100:" + "x".repeat(100) + ","), 100))
                .hasSize(100);
    }

    private static void assertMalformed(String input, String message) {
        assertThatThrownBy(() -> Netstrings.read(in(input), 100))
                .isInstanceOf(Netstrings.MalformedNetstringException.class)
                .hasMessageContaining(message);
    }

    @Property(tries = 200)
    void roundTripsAnyBytesInSequence(@ForAll @Size(max = 8) List<@Size(max = 300) byte[]> items) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] item : items) {
            out.write(Netstrings.encode(item));
        }
        InputStream s = new ByteArrayInputStream(out.toByteArray());
        List<byte[]> back = new ArrayList<>();
        for (Optional<byte[]> next = Netstrings.read(s, 300); next.isPresent(); next = Netstrings.read(s, 300)) {
            back.add(next.get());
        }
        assertThat(back).hasSize(items.size());
        for (int i = 0; i < items.size(); i++) {
            assertThat(back.get(i)).isEqualTo(items.get(i));
        }
    }

    @Property(tries = 500)
    void anyInputIsADataOrAMalformedNetstringNeverAnotherError(@ForAll @Size(max = 40) byte[] input) {
        try {
            Optional<byte[]> read = Netstrings.read(new ByteArrayInputStream(input), 16);
            assertThat(read.map(b -> b.length).orElse(0)).isLessThanOrEqualTo(16);
        } catch (Netstrings.MalformedNetstringException e) {
            assertThat(e.getMessage()).isNotBlank();
        } catch (IOException e) {
            throw new AssertionError("unexpected " + e, e);
        }
    }

    @Test
    void repliesNeverCarryControlCharactersAndReasonsAreBounded() {
        assertThat(SocketmapReply.temp("a\r\nb").wire()).isEqualTo("TEMP a  b");
        assertThat(SocketmapReply.perm("x".repeat(1000)).text()).hasSize(SocketmapReply.MAX_REASON);
        assertThatThrownBy(() -> SocketmapReply.ok("dane\n")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SocketmapReply(SocketmapReply.Status.NOTFOUND, "x"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
