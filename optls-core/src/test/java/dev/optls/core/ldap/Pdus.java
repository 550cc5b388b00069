package dev.optls.core.ldap;

import dev.optls.core.testing.Transcript;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** LDAP PDUs for tests: golden bytes from protocols.md §9 in hex, and builders for requests. */
final class Pdus {
    private Pdus() {}

    static final String OID_HEX = "31 2e 33 2e 36 2e 31 2e 34 2e 31 2e 31 34 36 36 2e 32 30 30 33 37";

    /** protocols.md §9.1: the 31-byte request, byte-identical in openssl, testssl.sh and sslyze. */
    static final byte[] START_TLS_REQUEST = hex("30 1d 02 01 01 77 18 80 16" + OID_HEX);

    /** protocols.md §9.2: OpenLDAP's minimal success response. */
    static final byte[] OPENLDAP_SUCCESS = hex("30 0c 02 01 01 78 07 0a 01 00 04 00 04 00");

    /** protocols.md §9.2: success with responseName. */
    static final byte[] NAMED_SUCCESS = hex("30 24 02 01 01 78 1f 0a 01 00 04 00 04 00 8a 16" + OID_HEX);

    /** protocols.md §9.2: ApacheDS adds an empty responseValue. */
    static final byte[] APACHEDS_SUCCESS = hex("30 26 02 01 01 78 21 0a 01 00 04 00 04 00 8a 16" + OID_HEX + "8b 00");

    /** protocols.md §9.2: Active Directory's four-octet long-form lengths. */
    static final byte[] AD_SUCCESS =
            hex("30 84 00 00 00 28 02 01 01 78 84 00 00 00 1f 0a 01 00 04 00 04 00 8a 16" + OID_HEX);

    /** protocols.md §9.3: OpenLDAP without TLS. */
    static final byte[] PROTOCOL_ERROR = concat(
            hex("30 2a 02 01 01 78 25 0a 01 02 04 00 04 1e"),
            "unsupported extended operation".getBytes(StandardCharsets.US_ASCII));

    /** An UnbindRequest with messageID 2, as the client sends it before closing. */
    static final byte[] UNBIND_2 = hex("30 05 02 01 02 42 00");

    static byte[] hex(String spaced) {
        return HexFormat.of().parseHex(spaced.replace(" ", ""));
    }

    static String toHex(byte[] bytes) {
        return HexFormat.ofDelimiter(" ").formatHex(bytes);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] message(int id, byte[] op) {
        return Ber.Writer.element(Ber.SEQUENCE, Ber.Writer.integer(Ber.INTEGER, id), op);
    }

    static byte[] startTls(int id) {
        return LdapMessage.startTlsRequest(id);
    }

    static byte[] extendedResponse(int id, int code, String text, String name) {
        return LdapMessage.extendedResponse(id, code, text, name);
    }

    static byte[] bindSimple(int id, String dn, String password) {
        return message(
                id,
                Ber.Writer.element(
                        0x60,
                        Ber.Writer.integer(Ber.INTEGER, 3),
                        Ber.Writer.text(Ber.OCTET_STRING, dn),
                        Ber.Writer.text(0x80, password)));
    }

    static byte[] bindSasl(int id, String mechanism) {
        return message(
                id,
                Ber.Writer.element(
                        0x60,
                        Ber.Writer.integer(Ber.INTEGER, 3),
                        Ber.Writer.text(Ber.OCTET_STRING, ""),
                        Ber.Writer.element(0xa3, Ber.Writer.text(Ber.OCTET_STRING, mechanism))));
    }

    /** A base-object search for {@code (objectClass=*)}, as {@code ldapsearch -s base} sends it. */
    static byte[] search(int id, String base) {
        return message(
                id,
                Ber.Writer.element(
                        0x63,
                        Ber.Writer.text(Ber.OCTET_STRING, base),
                        Ber.Writer.integer(Ber.ENUMERATED, 0),
                        Ber.Writer.integer(Ber.ENUMERATED, 0),
                        Ber.Writer.integer(Ber.INTEGER, 0),
                        Ber.Writer.integer(Ber.INTEGER, 0),
                        Ber.Writer.element(Ber.BOOLEAN, new byte[] {0}),
                        Ber.Writer.text(0x87, "objectClass"),
                        Ber.Writer.element(Ber.SEQUENCE)));
    }

    static byte[] unbind(int id) {
        return LdapMessage.unbindRequest(id);
    }

    /**
     * A transcript from bytes: {@code segments} alternate server bytes and client bytes per TLS
     * boundary: {server0, client0, server1, client1, ...}.
     */
    static Transcript transcript(String name, String expected, List<String> answers, byte[]... segments) {
        List<Transcript.Segment> list = new ArrayList<>();
        for (int i = 0; i < segments.length; i += 2) {
            byte[] client = i + 1 < segments.length ? segments[i + 1] : new byte[0];
            list.add(new Transcript.Segment(segments[i], client, i == 0 ? answers : List.of()));
        }
        return new Transcript(name, List.copyOf(list), expected, Map.of());
    }

    static Transcript transcript(String name, String expected, byte[]... segments) {
        return transcript(name, expected, List.of(), segments);
    }
}
