package wasmplug

import (
	"encoding/binary"
	"encoding/json"
	"unsafe"
)

//go:wasmimport wasmplug http_request
func hostHTTPRequest(head unsafe.Pointer, headLen uint32, body unsafe.Pointer, bodyLen uint32, slot unsafe.Pointer) int32

// Request is an outbound HTTP request, allowed only to the plugin's `net` grants.
type Request struct {
	Method  string      `json:"method"`
	URL     string      `json:"url"`
	Headers [][2]string `json:"headers,omitempty"`
	Body    []byte      `json:"-"`
}

// Response is the answer to a Request. Header names are lowercase, in order.
type Response struct {
	Status  int         `json:"status"`
	Headers [][2]string `json:"headers"`
	Body    []byte      `json:"-"`
}

// HTTPRequest sends req through the host. Refusals (destination not granted, ...) and
// failures are *Error values whose message says what to grant or change.
func HTTPRequest(req Request) (*Response, error) {
	if req.Method == "" {
		req.Method = "GET"
	}
	head, err := MarshalJSON(req)
	if err != nil {
		return nil, err
	}
	hp, hs := bytesArg(head)
	bp, bs := bytesArg(req.Body)
	buf, _, err := HostBytes(hostHTTPRequest(hp, hs, bp, bs, SlotPtr()))
	if err != nil {
		return nil, err
	}
	if len(buf) < 4 {
		return nil, &Error{Message: "the host sent a malformed HTTP response"}
	}
	n := binary.LittleEndian.Uint32(buf)
	if uint32(len(buf)-4) < n {
		return nil, &Error{Message: "the host sent a malformed HTTP response"}
	}
	var resp Response
	if err := json.Unmarshal(buf[4:4+n], &resp); err != nil {
		return nil, &Error{Message: "the host sent a malformed HTTP response head: " + err.Error()}
	}
	resp.Body = buf[4+n:]
	return &resp, nil
}
