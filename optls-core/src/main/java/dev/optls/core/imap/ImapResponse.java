package dev.optls.core.imap;

import dev.optls.core.Capabilities;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/** One server response (RFC 9051 §7): tagged, untagged status, untagged data, or a continuation request. */
public sealed interface ImapResponse {

    /** The status of a status response (RFC 9051 §7.1). */
    enum Status {
        OK,
        NO,
        BAD,
        BYE,
        PREAUTH;

        static Optional<Status> of(String word) {
            return Arrays.stream(values())
                    .filter(s -> s.name().equalsIgnoreCase(word))
                    .findFirst();
        }
    }

    /**
     * A bracketed response code such as {@code [CAPABILITY IMAP4rev2 STARTTLS]}, {@code [ALERT]} or
     * {@code [PRIVACYREQUIRED]} (RFC 9051 §7.1).
     *
     * @param name the code's atom, upper-cased
     * @param arguments the text after the name and a space, or an empty string
     */
    record ResponseCode(String name, String arguments) {
        public ResponseCode {
            name = name.toUpperCase(Locale.ROOT);
        }

        /** The arguments split at spaces (capability atoms for {@code CAPABILITY}). */
        public List<String> atoms() {
            return Arrays.stream(arguments.split(" ")).filter(a -> !a.isEmpty()).toList();
        }
    }

    /** A status response: OK / NO / BAD / BYE / PREAUTH, with optional code and text. */
    sealed interface StatusResponse extends ImapResponse {
        Status status();

        Optional<ResponseCode> code();

        String text();

        /** The capabilities of a {@code [CAPABILITY ...]} code, if the response carries one. */
        default Optional<Capabilities> capabilityCode() {
            return code().filter(c -> c.name().equals("CAPABILITY")).map(c -> new Capabilities(c.atoms()));
        }
    }

    /** {@code <tag> OK|NO|BAD [code] text}: the completion of the command with that tag. */
    record Tagged(String tag, Status status, Optional<ResponseCode> code, String text) implements StatusResponse {}

    /** {@code * OK|NO|BAD|BYE|PREAUTH [code] text}. */
    record UntaggedStatus(Status status, Optional<ResponseCode> code, String text) implements StatusResponse {}

    /**
     * Untagged data: {@code * CAPABILITY ...}, {@code * LIST ...}, {@code * 3 EXISTS}, {@code * 1 FETCH (...)}.
     *
     * @param number the message number before the name, if any
     * @param name the response name, upper-cased
     * @param values what follows the name
     */
    record UntaggedData(OptionalLong number, String name, List<ImapValue> values) implements ImapResponse {
        public UntaggedData {
            name = name.toUpperCase(Locale.ROOT);
            values = List.copyOf(values);
        }

        /** For {@code * CAPABILITY}: one entry per atom. */
        public Capabilities capabilities() {
            return new Capabilities(values.stream().map(ImapValue::text).toList());
        }
    }

    /** {@code + text}: a continuation request (RFC 9051 §7.6). */
    record Continuation(String text) implements ImapResponse {}
}
