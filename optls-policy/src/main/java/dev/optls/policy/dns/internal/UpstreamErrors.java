package dev.optls.policy.dns.internal;

import dev.optls.policy.dns.DnsNames;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.TSIG;

/**
 * The upstream (head) resolver under dnsjava's {@code ValidatingResolver}, remembering which questions the
 * upstream answered with an error RCODE. The validator turns an upstream SERVFAIL into "bogus" (response subtype
 * unknown); this lets the lookup tell "the upstream failed" (SERVFAIL, indeterminate) from "validation failed"
 * (bogus).
 */
final class UpstreamErrors implements Resolver {

    /** More remembered errors than this and the memory is cleared: it only has to last one lookup. */
    private static final int MAX_REMEMBERED = 1024;

    private final Resolver upstream;
    private final Map<String, Integer> errors = new ConcurrentHashMap<>();

    UpstreamErrors(Resolver upstream) {
        this.upstream = upstream;
    }

    /** The error RCODE the upstream last gave for this question, forgetting it; {@link Rcode#NOERROR} if none. */
    int take(String name, int type) {
        Integer rcode = errors.remove(key(name, type));
        return rcode == null ? Rcode.NOERROR : rcode;
    }

    private static String key(String name, int type) {
        return DnsNames.normalize(name) + "/" + type;
    }

    @Override
    public CompletionStage<Message> sendAsync(Message query, Executor executor) {
        Record question = query.getQuestion();
        return upstream.sendAsync(query, executor).thenApply(response -> {
            int rcode = response.getRcode();
            if (question != null && rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN) {
                if (errors.size() >= MAX_REMEMBERED) {
                    errors.clear();
                }
                errors.put(key(question.getName().toString(), question.getType()), rcode);
            }
            return response;
        });
    }

    @Override
    public void setPort(int port) {
        upstream.setPort(port);
    }

    @Override
    public void setTCP(boolean flag) {
        upstream.setTCP(flag);
    }

    @Override
    public void setIgnoreTruncation(boolean flag) {
        upstream.setIgnoreTruncation(flag);
    }

    @Override
    public void setEDNS(int version, int payloadSize, int flags, List<EDNSOption> options) {
        upstream.setEDNS(version, payloadSize, flags, options);
    }

    @Override
    public void setTSIGKey(TSIG key) {
        upstream.setTSIGKey(key);
    }

    @Override
    public void setTimeout(Duration timeout) {
        upstream.setTimeout(timeout);
    }

    @Override
    public Duration getTimeout() {
        return upstream.getTimeout();
    }
}
