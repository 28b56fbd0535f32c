// codec.go — a gRPC codec that understands both generations of Go protobuf
// messages.
//
// Debian 12 ships grpc-go 1.33 whose default codec marshals through
// github.com/golang/protobuf 1.3, which predates the APIv2 messages that
// protoc-gen-go 1.28 generates (our tfplugin6 code): it panics on them.
// go-plugin 1.0.1's own messages are 1.3-era. Registering this codec under
// the name "proto" replaces the default for every connection in the
// process, go-plugin's included: APIv2 messages go through
// google.golang.org/protobuf, older ones through golang/protobuf.
package main

import (
	"fmt"

	protov1 "github.com/golang/protobuf/proto"
	"google.golang.org/grpc/encoding"
	protov2 "google.golang.org/protobuf/proto"
)

type dualCodec struct{}

func (dualCodec) Name() string { return "proto" }

func (dualCodec) Marshal(v interface{}) ([]byte, error) {
	switch m := v.(type) {
	case protov2.Message:
		return protov2.Marshal(m)
	case protov1.Message:
		return protov1.Marshal(m)
	}
	return nil, fmt.Errorf("codec: %T is not a protobuf message", v)
}

func (dualCodec) Unmarshal(data []byte, v interface{}) error {
	switch m := v.(type) {
	case protov2.Message:
		return protov2.Unmarshal(data, m)
	case protov1.Message:
		return protov1.Unmarshal(data, m)
	}
	return fmt.Errorf("codec: %T is not a protobuf message", v)
}

func init() { encoding.RegisterCodec(dualCodec{}) }
