package protocol

import "unsafe"

func sizeofConn(c *Conn) uintptr { return unsafe.Sizeof(*c) }
