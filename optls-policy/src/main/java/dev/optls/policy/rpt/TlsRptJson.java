package dev.optls.policy.rpt;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON form of a TLS-RPT report, exactly the schema of RFC 8460 §4.4: field names, nesting and order as in the
 * RFC's example (§4.5); optional fields that are absent ({@code null} or empty lists) are omitted.
 */
public final class TlsRptJson {

    /** The largest report JSON {@link #parse} reads (20 MiB, as receivers such as mox accept). */
    public static final int MAX_JSON_BYTES = 20 * 1024 * 1024;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private TlsRptJson() {}

    /** The report as a JSON tree. */
    public static ObjectNode toTree(TlsRptReport report) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("organization-name", report.organizationName());
        ObjectNode range = root.putObject("date-range");
        // RFC 8460 §4.4: date-time as in RFC 3339 (UTC, "Z").
        range.put("start-datetime", DateTimeFormatter.ISO_INSTANT.format(report.start()));
        range.put("end-datetime", DateTimeFormatter.ISO_INSTANT.format(report.end()));
        root.put("contact-info", report.contactInfo());
        root.put("report-id", report.reportId());
        ArrayNode policies = root.putArray("policies");
        for (PolicyReport pr : report.policies()) {
            ObjectNode entry = policies.addObject();
            ObjectNode policy = entry.putObject("policy");
            ReportPolicy p = pr.policy();
            policy.put("policy-type", p.type().wireName());
            if (!p.policyStrings().isEmpty()) {
                ArrayNode strings = policy.putArray("policy-string");
                p.policyStrings().forEach(strings::add);
            }
            policy.put("policy-domain", p.policyDomain());
            if (!p.mxHosts().isEmpty()) {
                // RFC 8460 errata 6241: mx-host is an array of strings.
                ArrayNode mx = policy.putArray("mx-host");
                p.mxHosts().forEach(mx::add);
            }
            ObjectNode summary = entry.putObject("summary");
            summary.put("total-successful-session-count", pr.successfulSessions());
            summary.put("total-failure-session-count", pr.failedSessions());
            if (!pr.failureDetails().isEmpty()) {
                ArrayNode details = entry.putArray("failure-details");
                for (FailureDetail d : pr.failureDetails()) {
                    SessionFailure f = d.failure();
                    ObjectNode o = details.addObject();
                    o.put("result-type", f.resultType().wireName());
                    putIfPresent(o, "sending-mta-ip", f.sendingMtaIp());
                    putIfPresent(o, "receiving-mx-hostname", f.receivingMxHostname());
                    putIfPresent(o, "receiving-mx-helo", f.receivingMxHelo());
                    putIfPresent(o, "receiving-ip", f.receivingIp());
                    o.put("failed-session-count", d.failedSessionCount());
                    putIfPresent(o, "additional-information", f.additionalInformation());
                    putIfPresent(o, "failure-reason-code", f.failureReasonCode());
                }
            }
        }
        return root;
    }

    /** The report as UTF-8 JSON bytes (compact). */
    public static byte[] toBytes(TlsRptReport report) {
        try {
            return MAPPER.writeValueAsBytes(toTree(report));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a report tree could not be written", e);
        }
    }

    /**
     * Reads a report. Lenient where senders differ: {@code mx-host} as a string or an array (RFC 8460 errata 6241),
     * date-times without a zone taken as UTC. Never throws for any input; result types this library does not know
     * make the report {@link TlsRptParse.Malformed}.
     */
    public static TlsRptParse parse(byte[] json) {
        if (json.length > MAX_JSON_BYTES) {
            return new TlsRptParse.Malformed("the report is larger than " + MAX_JSON_BYTES + " bytes");
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (IOException e) {
            return new TlsRptParse.Malformed("not JSON: " + jsonProblem(e));
        } catch (RuntimeException e) {
            return new TlsRptParse.Malformed("not JSON: " + shorten(String.valueOf(e.getMessage()), 200));
        }
        try {
            return new TlsRptParse.Parsed(read(root));
        } catch (MalformedException e) {
            return new TlsRptParse.Malformed(e.getMessage());
        } catch (IllegalArgumentException e) {
            return new TlsRptParse.Malformed(e.getMessage());
        }
    }

    private static TlsRptReport read(JsonNode root) throws MalformedException {
        if (root == null || !root.isObject()) {
            throw new MalformedException("the report is not a JSON object");
        }
        JsonNode range = object(root, "date-range");
        List<PolicyReport> policies = new ArrayList<>();
        for (JsonNode entry : array(root, "policies", true)) {
            JsonNode policy = object(entry, "policy");
            String typeName = text(policy, "policy-type", true);
            PolicyType type = PolicyType.fromWireName(typeName);
            if (type == null) {
                throw new MalformedException("unknown policy-type '" + shorten(typeName) + "'");
            }
            List<String> strings = new ArrayList<>();
            for (JsonNode s : array(policy, "policy-string", false)) {
                strings.add(textValue(s, "policy-string"));
            }
            List<String> mx = new ArrayList<>();
            JsonNode mxNode = policy.get("mx-host");
            if (mxNode != null && mxNode.isTextual()) {
                mx.add(mxNode.textValue());
            } else {
                for (JsonNode s : array(policy, "mx-host", false)) {
                    mx.add(textValue(s, "mx-host"));
                }
            }
            ReportPolicy rp = new ReportPolicy(type, strings, text(policy, "policy-domain", true), mx);
            JsonNode summary = object(entry, "summary");
            List<FailureDetail> details = new ArrayList<>();
            for (JsonNode d : array(entry, "failure-details", false)) {
                String resultName = text(d, "result-type", true);
                TlsRptResult result = null;
                for (TlsRptResult r : TlsRptResult.values()) {
                    if (r.wireName().equals(resultName)) {
                        result = r;
                    }
                }
                if (result == null) {
                    throw new MalformedException("unknown result-type '" + shorten(resultName) + "'");
                }
                SessionFailure f = new SessionFailure(
                        result,
                        text(d, "sending-mta-ip", false),
                        text(d, "receiving-mx-hostname", false),
                        text(d, "receiving-mx-helo", false),
                        text(d, "receiving-ip", false),
                        text(d, "additional-information", false),
                        text(d, "failure-reason-code", false));
                details.add(new FailureDetail(f, count(d, "failed-session-count")));
            }
            policies.add(new PolicyReport(
                    rp,
                    count(summary, "total-successful-session-count"),
                    count(summary, "total-failure-session-count"),
                    details));
        }
        return new TlsRptReport(
                text(root, "organization-name", true),
                dateTime(text(range, "start-datetime", true)),
                dateTime(text(range, "end-datetime", true)),
                text(root, "contact-info", true),
                text(root, "report-id", true),
                policies);
    }

    private static Instant dateTime(String text) throws MalformedException {
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            try {
                // Some senders (Microsoft) omit the zone: taken as UTC.
                return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
            } catch (DateTimeParseException e2) {
                throw new MalformedException("'" + shorten(text) + "' is not an RFC 3339 date-time");
            }
        }
    }

    private static JsonNode object(JsonNode parent, String name) throws MalformedException {
        JsonNode n = parent.get(name);
        if (n == null || !n.isObject()) {
            throw new MalformedException("'" + name + "' must be an object");
        }
        return n;
    }

    private static Iterable<JsonNode> array(JsonNode parent, String name, boolean required) throws MalformedException {
        JsonNode n = parent.get(name);
        if (n == null && !required) {
            return List.of();
        }
        if (n == null || !n.isArray()) {
            throw new MalformedException("'" + name + "' must be an array");
        }
        return n;
    }

    private static String text(JsonNode parent, String name, boolean required) throws MalformedException {
        JsonNode n = parent.get(name);
        if (n == null && !required) {
            return null;
        }
        if (n == null || !n.isTextual()) {
            throw new MalformedException("'" + name + "' must be a string");
        }
        return n.textValue();
    }

    private static String textValue(JsonNode n, String name) throws MalformedException {
        if (!n.isTextual()) {
            throw new MalformedException("'" + name + "' must hold strings");
        }
        return n.textValue();
    }

    private static long count(JsonNode parent, String name) throws MalformedException {
        JsonNode n = parent.get(name);
        if (n == null || !n.canConvertToLong() || !n.isIntegralNumber() || n.longValue() < 0) {
            throw new MalformedException("'" + name + "' must be a non-negative integer");
        }
        return n.longValue();
    }

    /** Reasons quote at most a short piece of the input (a value can be megabytes long). */
    private static String shorten(String s) {
        return shorten(s, 100);
    }

    private static String shorten(String s, int max) {
        return s.length() > max ? s.substring(0, max) + "..." : s;
    }

    /** Jackson's message without its quote of the input, and where the problem is. */
    private static String jsonProblem(IOException e) {
        if (e instanceof JsonProcessingException j) {
            JsonLocation at = j.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            return shorten(String.valueOf(j.getOriginalMessage()), 200) + where;
        }
        return shorten(String.valueOf(e.getMessage()), 200);
    }

    private static void putIfPresent(ObjectNode o, String name, String value) {
        if (value != null) {
            o.put(name, value);
        }
    }

    private static final class MalformedException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedException(String message) {
            super(message);
        }
    }
}
