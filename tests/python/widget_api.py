"""`acme:component:widget`: an API that axle has no .proto for, defined
here at run time (no protoc needed), with a method of each gRPC shape:

    service acme.widget.v1.WidgetService {
      rpc Spin(SpinRequest) returns (SpinResponse);               // unary
      rpc Count(CountRequest) returns (stream CountResponse);     // server stream
      rpc Sum(stream SumRequest) returns (SumResponse);           // client stream
      rpc Echo(stream SpinRequest) returns (stream SpinResponse); // both
    }

Every request carries the widget's `name` as field 1, as Viam APIs do.
"""

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpclib.const import Cardinality

SERVICE = "acme.widget.v1.WidgetService"
F = descriptor_pb2.FieldDescriptorProto

MESSAGES = {
    "SpinRequest": [("name", 1, F.TYPE_STRING), ("turns", 2, F.TYPE_INT64)],
    "SpinResponse": [("name", 1, F.TYPE_STRING), ("turns", 2, F.TYPE_INT64)],
    "CountRequest": [("name", 1, F.TYPE_STRING), ("n", 2, F.TYPE_INT64)],
    "CountResponse": [("i", 1, F.TYPE_INT64)],
    "SumRequest": [("name", 1, F.TYPE_STRING), ("x", 2, F.TYPE_INT64)],
    "SumResponse": [("total", 1, F.TYPE_INT64), ("messages", 2, F.TYPE_INT64)],
}
METHODS = {
    "Spin": ("SpinRequest", "SpinResponse", Cardinality.UNARY_UNARY),
    "Count": ("CountRequest", "CountResponse", Cardinality.UNARY_STREAM),
    "Sum": ("SumRequest", "SumResponse", Cardinality.STREAM_UNARY),
    "Echo": ("SpinRequest", "SpinResponse", Cardinality.STREAM_STREAM),
}


def _build():
    f = descriptor_pb2.FileDescriptorProto(name="acme/widget/v1/widget.proto", package="acme.widget.v1",
                                           syntax="proto3")
    for name, fields in MESSAGES.items():
        m = f.message_type.add(name=name)
        for field, number, kind in fields:
            m.field.add(name=field, number=number, type=kind, label=F.LABEL_OPTIONAL)
    s = f.service.add(name="WidgetService")
    for method, (req, resp, card) in METHODS.items():
        s.method.add(name=method, input_type=f".acme.widget.v1.{req}", output_type=f".acme.widget.v1.{resp}",
                     client_streaming=card in (Cardinality.STREAM_UNARY, Cardinality.STREAM_STREAM),
                     server_streaming=card in (Cardinality.UNARY_STREAM, Cardinality.STREAM_STREAM))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return {n: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"acme.widget.v1.{n}")) for n in MESSAGES}


types = _build()


def path(method):
    return f"/{SERVICE}/{method}"


def call(channel, method):
    """A grpclib method object for `method` on `channel`."""
    from grpclib.client import StreamStreamMethod, StreamUnaryMethod, UnaryStreamMethod, UnaryUnaryMethod
    req, resp, card = METHODS[method]
    kind = {Cardinality.UNARY_UNARY: UnaryUnaryMethod, Cardinality.UNARY_STREAM: UnaryStreamMethod,
            Cardinality.STREAM_UNARY: StreamUnaryMethod, Cardinality.STREAM_STREAM: StreamStreamMethod}[card]
    return kind(channel, path(method), types[req], types[resp])
