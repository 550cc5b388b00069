package dev.optls.policy.sts.internal;

import dev.optls.policy.sts.StsFetchFailure;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * The body handler of a policy fetch: decides on status and headers before any body byte is read (RFC 8461 §3.3:
 * only 200, no redirects, {@code text/plain}) and reads at most {@code limit} bytes, cancelling the exchange as
 * soon as the body grows beyond it — the limit holds while reading, whatever the server sends.
 */
public final class BoundedBody implements HttpResponse.BodyHandler<BoundedBody.Result> {

    /** What the handler made of the response. */
    public sealed interface Result permits Body, Rejected {}

    /** The whole body, within the limit. */
    public record Body(byte[] bytes) implements Result {}

    /** The response was refused, before or while reading the body. */
    public record Rejected(StsFetchFailure failure, String detail) implements Result {}

    private final int limit;
    private volatile Reader current;

    /** Accepts bodies of at most {@code limit} bytes. */
    public BoundedBody(int limit) {
        this.limit = limit;
    }

    @Override
    public HttpResponse.BodySubscriber<Result> apply(HttpResponse.ResponseInfo info) {
        Optional<Rejected> rejected = check(info);
        Reader reader = new Reader(limit, rejected.orElse(null));
        current = reader;
        return reader;
    }

    /** Stops reading (after a timeout): the exchange is cancelled. */
    public void cancel() {
        Reader reader = current;
        if (reader != null) {
            reader.stop();
        }
    }

    private Optional<Rejected> check(HttpResponse.ResponseInfo info) {
        int status = info.statusCode();
        if (status >= 300 && status < 400) {
            // RFC 8461 §3.3: 3xx redirects must not be followed.
            return Optional.of(new Rejected(
                    StsFetchFailure.REDIRECT,
                    "HTTP " + status + " redirect to "
                            + info.headers().firstValue("Location").orElse("(no Location)")
                            + "; redirects are not followed (RFC 8461 §3.3)"));
        }
        if (status != 200) {
            // RFC 8461 §3.3: only an HTTP 200 response carries a policy.
            return Optional.of(new Rejected(StsFetchFailure.HTTP_STATUS, "HTTP " + status + " instead of 200"));
        }
        String type = info.headers().firstValue("Content-Type").orElse("");
        // RFC 8461 §3.3: the policy is served as "text/plain"; parameters such as charset may follow.
        String mediaType = type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("text/plain")) {
            return Optional.of(new Rejected(
                    StsFetchFailure.CONTENT_TYPE, "Content-Type is '" + type + "', not text/plain (RFC 8461 §3.3)"));
        }
        Optional<String> length = info.headers().firstValue("Content-Length");
        if (length.isPresent()) {
            long declared;
            try {
                declared = Long.parseLong(length.get().strip());
            } catch (NumberFormatException e) {
                declared = -1;
            }
            if (declared > limit) {
                return Optional.of(tooLarge("Content-Length " + declared));
            }
        }
        return Optional.empty();
    }

    private Rejected tooLarge(String what) {
        return new Rejected(
                StsFetchFailure.TOO_LARGE,
                what + " is more than the " + limit + " bytes a policy may have (RFC 8461 §3.3)");
    }

    private final class Reader implements HttpResponse.BodySubscriber<Result> {
        private final int max;
        private final Rejected rejectedUpFront;
        private final CompletableFuture<Result> result = new CompletableFuture<>();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private volatile Flow.Subscription subscription;
        private long total;

        Reader(int max, Rejected rejectedUpFront) {
            this.max = max;
            this.rejectedUpFront = rejectedUpFront;
        }

        @Override
        public CompletionStage<Result> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (rejectedUpFront != null) {
                // Nothing of this body is read: cancelling closes the connection.
                s.cancel();
                result.complete(rejectedUpFront);
                return;
            }
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer item : items) {
                total += item.remaining();
                if (total > max) {
                    subscription.cancel();
                    result.complete(tooLarge("the body (more than " + max + " bytes read)"));
                    return;
                }
                byte[] chunk = new byte[item.remaining()];
                item.get(chunk);
                bytes.write(chunk, 0, chunk.length);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable throwable) {
            result.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            result.complete(new Body(bytes.toByteArray()));
        }

        void stop() {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
        }
    }
}
